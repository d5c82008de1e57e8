//! kutse-notifications
