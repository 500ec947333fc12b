#!/bin/sh
# check_full_pth.sh - needs Debian's python3-torch (not CI): torch.save writes the
# full deterministically filled Inception state_dict (95 MB) in the legacy and
# the zip format into a temporary folder; test_fid then loads both and checks
# they give exactly the features of the same fill computed in C.
set -e
T=$(mktemp -d "${TMPDIR:-/tmp}/dcgan_pth.XXXXXX")
/usr/bin/python3 tests/make_fid_reference.py --full "$T" >/dev/null
DCGAN_FULL_PTH_DIR="$T" build/test_fid
rm -rf "$T"
