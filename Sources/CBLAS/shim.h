// Debian's OpenBLAS CBLAS interface (libopenblas-dev, pkg-config openblas).
#ifndef CBLAS_SHIM_H
#define CBLAS_SHIM_H
#include <cblas.h>
#endif
