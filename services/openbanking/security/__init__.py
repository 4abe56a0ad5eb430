"""Client-certificate and access-token checks of the API edge: thumbprints, chains, OCSP/CRL revocation,
FAPI access-token verification (RFC 8705 binding) and the route table the authorizer enforces."""
