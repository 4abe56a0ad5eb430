"""The sandbox IdP: tokens, the PSU's decisions and core banking's reports (`service`), and its deployed entry point
(`main`)."""
