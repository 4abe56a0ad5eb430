"""The sandbox CA: certificates, OCSP, CRL and TPP signing keys (`service`), and its deployed entry point (`main`)."""
