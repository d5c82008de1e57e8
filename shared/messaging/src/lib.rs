//! kutse-messaging
