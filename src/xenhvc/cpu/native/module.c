/* xenhvc's compiled part as an importable module: importing it checks that the build happened.
   The hooks themselves (clock.c, hvc.c) are plain C reached through ctypes from
   cpu/native/__init__.py, with Unicorn's functions passed in as pointers. */
#include <Python.h>

static struct PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "_native",
    "xenhvc's native Unicorn hooks (see clock.c and hvc.c).", -1, NULL};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&native_module);
}
