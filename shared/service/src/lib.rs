//! kutse-service
