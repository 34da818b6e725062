export { SessionError, isSessionError, SESSION_ERROR_CODES } from "./errors.js";
export type { SessionErrorCode, SessionErrorDetails } from "./errors.js";
