/* The linked library's version, so a program can tell the header it was compiled
 * with (CKERAS_VERSION) from the libckeras.so it runs with. */
#include "ckeras.h"

const char *ck_version(void) { return CKERAS_VERSION; }
