//! The OpenAPI 3.1 document of the platform API, generated from the contract types.
