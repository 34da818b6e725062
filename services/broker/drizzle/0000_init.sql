CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`direction` text NOT NULL,
	`pointer` text NOT NULL,
	`size` integer NOT NULL,
	`content_type` text,
	`file_name` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attachments_created_idx` ON `attachments` (`created_at`);--> statement-breakpoint
CREATE TABLE `blocklist` (
	`session_id` text PRIMARY KEY NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `conversations` (
	`session_id` text PRIMARY KEY NOT NULL,
	`display_name` text,
	`approved` integer DEFAULT false NOT NULL,
	`approved_me` integer DEFAULT false NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_message_at` integer NOT NULL,
	`inbound_count` integer DEFAULT 0 NOT NULL,
	`outbound_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `conversations_last_message_idx` ON `conversations` (`last_message_at`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`subject` text NOT NULL,
	`payload` blob NOT NULL,
	`original_id` text NOT NULL,
	`reason` text NOT NULL,
	`source` text NOT NULL,
	`document` text NOT NULL,
	`retries` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_retry_at` integer
);
--> statement-breakpoint
CREATE INDEX `dead_letters_created_idx` ON `dead_letters` (`created_at`);--> statement-breakpoint
CREATE TABLE `inbound_dedup` (
	`hash` text PRIMARY KEY NOT NULL,
	`outcome` text NOT NULL,
	`seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inbound_dedup_seen_idx` ON `inbound_dedup` (`seen_at`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` text NOT NULL,
	`direction` text NOT NULL,
	`ref` text NOT NULL,
	`kind` text NOT NULL,
	`body` text,
	`status` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`plugin` text,
	`causation_id` text,
	`sent_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_conversation_idx` ON `messages` (`conversation_id`,`id`);--> statement-breakpoint
CREATE INDEX `messages_created_idx` ON `messages` (`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_ref_idx` ON `messages` (`direction`,`ref`);--> statement-breakpoint
CREATE TABLE `outbound_keys` (
	`action_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`result_ref` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbound_keys_updated_idx` ON `outbound_keys` (`updated_at`);--> statement-breakpoint
CREATE TABLE `session_kv` (
	`namespace` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`namespace`, `key`)
);
