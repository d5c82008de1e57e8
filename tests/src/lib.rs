//! kutse-tests
