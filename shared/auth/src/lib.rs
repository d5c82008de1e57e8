//! kutse-auth
