"""The CPU side: the only package that imports Unicorn. Machine set-up, guest memory and the
trap entry that hands HVCs to the hypervisor model."""
