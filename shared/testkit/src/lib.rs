//! kutse-testkit
