"""Loopback fake servers of the outside systems (政钉, 天地图, OAuth2 single sign-on), used by
the tests and the demo. They bind 127.0.0.1 only, check signatures, answer with the real
envelopes (errors included) and can be told to be slow or broken."""
