//! Work in progress this session: the server functions of this domain.
