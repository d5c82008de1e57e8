//! kutse-intake
