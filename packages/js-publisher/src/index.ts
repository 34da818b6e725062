export { JetStreamPublisher, type PubAck, type PublishOptions, type PublisherOptions } from "./publisher.js";
export { PUBLISH_ERROR_CODES, PublishError, isPublishError, type PublishErrorCode } from "./errors.js";
