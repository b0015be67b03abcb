"""The model of Xen 4.17 on Arm. It knows nothing of Unicorn: the trap layer hands each handler a
narrow :class:`~xenhvc.hypervisor.context.HypercallContext`."""
