#include "core/ws/error.h"

namespace tern::ws {

std::string_view name(Error e) noexcept {
  switch (e) {
    case Error::MaskViolation: return "MaskViolation";
    case Error::ReservedBits: return "ReservedBits";
    case Error::BadOpcode: return "BadOpcode";
    case Error::ControlFrameTooLarge: return "ControlFrameTooLarge";
    case Error::FragmentedControl: return "FragmentedControl";
    case Error::UnexpectedContinuation: return "UnexpectedContinuation";
    case Error::ExpectedContinuation: return "ExpectedContinuation";
    case Error::NonMinimalLength: return "NonMinimalLength";
    case Error::LengthTopBitSet: return "LengthTopBitSet";
    case Error::InvalidClosePayload: return "InvalidClosePayload";
    case Error::InvalidCloseCode: return "InvalidCloseCode";
    case Error::InvalidUtf8: return "InvalidUtf8";
    case Error::InvalidCloseReason: return "InvalidCloseReason";
    case Error::FrameTooLarge: return "FrameTooLarge";
    case Error::MessageTooLarge: return "MessageTooLarge";
    case Error::BufferTooSmall: return "BufferTooSmall";
    case Error::DestinationTooSmall: return "DestinationTooSmall";
    case Error::CloseReasonTooLong: return "CloseReasonTooLong";
    case Error::MessageInProgress: return "MessageInProgress";
    case Error::NoMessageInProgress: return "NoMessageInProgress";
    case Error::RandomFailure: return "RandomFailure";
    case Error::NotOpen: return "NotOpen";
  }
  return "Unknown";
}

CloseCode close_code(Error e) noexcept {
  switch (e) {
    case Error::MaskViolation:
    case Error::ReservedBits:
    case Error::BadOpcode:
    case Error::ControlFrameTooLarge:
    case Error::FragmentedControl:
    case Error::UnexpectedContinuation:
    case Error::ExpectedContinuation:
    case Error::NonMinimalLength:
    case Error::LengthTopBitSet:
    case Error::InvalidClosePayload:
    case Error::InvalidCloseCode:
      return CloseCode::ProtocolError;
    case Error::InvalidUtf8:
    case Error::InvalidCloseReason:
      return CloseCode::InvalidPayload;
    case Error::FrameTooLarge:
    case Error::MessageTooLarge:
    case Error::BufferTooSmall:
      return CloseCode::MessageTooBig;
    case Error::DestinationTooSmall:
    case Error::CloseReasonTooLong:
    case Error::MessageInProgress:
    case Error::NoMessageInProgress:
    case Error::RandomFailure:
    case Error::NotOpen:
      return CloseCode::InternalError;
  }
  return CloseCode::InternalError;
}

}  // namespace tern::ws
