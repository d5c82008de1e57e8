//! kutse-certificates
