#ifndef MEDIAPEER_CAVAHI_SHIM_H
#define MEDIAPEER_CAVAHI_SHIM_H
// Avahi's client library (Debian: libavahi-client-dev). Only the non-variadic entry points are usable from Swift:
// the *_strlst variants instead of avahi_entry_group_add_service() and avahi_string_list_new().
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-client/lookup.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-common/alternative.h>
#include <avahi-common/malloc.h>
#include <avahi-common/address.h>
#include <avahi-common/timeval.h>
#endif
