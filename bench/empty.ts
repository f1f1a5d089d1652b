// The runtime floor of `make bench`: an empty program, compiled exactly as dist/guestnet is.
