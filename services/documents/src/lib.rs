//! kutse-documents
