//! kutse-assessment
