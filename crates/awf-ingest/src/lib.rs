//! Importers and scanners over untrusted bytes. Every function here takes bytes or text and
//! returns either a typed result or an error that says *where* (JSON pointer, line, row and
//! column) and *why*. Nothing here panics on any input: each parser has a cargo-fuzz target
//! under `fuzz/`.

pub mod dataset;
pub mod openapi;
pub mod pii;
pub mod table;
pub mod text;
