#include "core/buf/write_buf.h"

namespace tern {

WriteBuf::WriteBuf(std::size_t capacity, std::size_t headroom)
    : storage_(headroom + capacity),
      total_(headroom + capacity),
      headroom_(headroom),
      begin_(headroom),
      end_(headroom) {}

}  // namespace tern
