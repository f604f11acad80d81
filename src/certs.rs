//! Certificate and key inspection (X.509 parsing, fingerprints, key matching) for imports and
//! detail panels. Pure: bytes in, findings out.
