#pragma once
// GIMP hands out every GeglBuffer as a new reference; owning them keeps each error path from leaking one.
#include <gegl.h>

#include <memory>

namespace lowlight::plugin {

struct BufferUnref {
  void operator()(GeglBuffer* buffer) const {
    if (buffer) g_object_unref(buffer);
  }
};
using BufferPtr = std::unique_ptr<GeglBuffer, BufferUnref>;

}  // namespace lowlight::plugin
