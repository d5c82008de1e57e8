//! kutse-committee
