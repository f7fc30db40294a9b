#ifndef MEDIAPEER_CTAGLIB_SHIM_H
#define MEDIAPEER_CTAGLIB_SHIM_H
#include <taglib/tag_c.h>
#endif
