"""The local developer sandbox (`make sandbox`): the services on one port with a sandbox CA, IdP and PKI responders."""
