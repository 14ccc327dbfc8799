# The two commands of the README, and the steps they are made of.
.PHONY: setup build release run test bench-smb bench-quic bench-abuse bench-kerberos bench-durable

setup:
	scripts/setup.sh

build: setup
	scripts/build-site.sh

release: setup
	scripts/build-site.sh --release

# Sets up, builds and starts edgeshare with its database under ./data; prints the console URL.
run: build
	"$${CARGO_TARGET_DIR:-target}/debug/edgeshare" --data-dir ./data serve

# Sets up and runs every check: formatting, clippy (ssr and hydrate), Rust tests, browser tests.
test:
	scripts/test.sh

# EdgeShare against Samba's smbd side by side (throughput and metadata, medians and ratios).
bench-smb:
	scripts/bench-smb.sh

# SMB over QUIC against raw quinn (throughput, time to a tree connect, memory of 100 sessions).
bench-quic:
	scripts/bench-quic.sh

# Legitimate smbclient clients with and without 1,000 hostile connections, over TCP and QUIC.
bench-abuse:
	scripts/bench-abuse.sh

# Kerberos and NTLMv2 logons on EdgeShare and Samba side by side; the KDC proxy against direct KDC access.
bench-kerberos:
	scripts/bench-kerberos.sh

# Durable and persistent opens: reclaiming after a lost connection, and the cost of persistent
# handles, beside Samba.
bench-durable:
	scripts/bench-durable.sh
