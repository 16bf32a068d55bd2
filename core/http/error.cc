#include "core/http/error.h"

namespace tern::http {

std::string_view name(Error e) noexcept {
  switch (e) {
    case Error::None: return "None";
    case Error::BadMethod: return "BadMethod";
    case Error::BadTarget: return "BadTarget";
    case Error::BadVersion: return "BadVersion";
    case Error::BadStatus: return "BadStatus";
    case Error::BadStartLine: return "BadStartLine";
    case Error::BadLineEnding: return "BadLineEnding";
    case Error::BadHeaderName: return "BadHeaderName";
    case Error::BadHeaderValue: return "BadHeaderValue";
    case Error::ObsoleteLineFolding: return "ObsoleteLineFolding";
    case Error::HeaderTooLarge: return "HeaderTooLarge";
    case Error::TooManyHeaders: return "TooManyHeaders";
    case Error::InvalidContentLength: return "InvalidContentLength";
    case Error::ContentLengthOverflow: return "ContentLengthOverflow";
    case Error::ConflictingContentLength: return "ConflictingContentLength";
    case Error::TransferEncodingWithContentLength:
      return "TransferEncodingWithContentLength";
    case Error::BadTransferEncoding: return "BadTransferEncoding";
    case Error::InvalidChunkSize: return "InvalidChunkSize";
    case Error::ChunkSizeOverflow: return "ChunkSizeOverflow";
    case Error::ChunkLineTooLong: return "ChunkLineTooLong";
    case Error::BadChunkTerminator: return "BadChunkTerminator";
    case Error::BodyTooLarge: return "BodyTooLarge";
    case Error::UnexpectedEof: return "UnexpectedEof";
    case Error::BufferFull: return "BufferFull";
    case Error::CrlfInjection: return "CrlfInjection";
    case Error::InvalidHeaderName: return "InvalidHeaderName";
    case Error::InvalidHeaderValue: return "InvalidHeaderValue";
    case Error::InvalidPath: return "InvalidPath";
    case Error::InvalidStatus: return "InvalidStatus";
    case Error::ReservedHeader: return "ReservedHeader";
  }
  return "Unknown";
}

}  // namespace tern::http
