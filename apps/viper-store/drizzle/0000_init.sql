CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"mechanism" text NOT NULL,
	"source" text NOT NULL,
	"event_type" text NOT NULL,
	"mode" text NOT NULL,
	"region" text,
	"payload_timestamp" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"bytes" integer,
	"content_hash" text,
	"received" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"stale" integer DEFAULT 0 NOT NULL,
	"revived" integer DEFAULT 0 NOT NULL,
	"rejected_count" integer DEFAULT 0 NOT NULL,
	"rejections" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"result" text NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "node_current" (
	"node_id" text NOT NULL,
	"source" text NOT NULL,
	"region" text DEFAULT '' NOT NULL,
	"method" text,
	"latency" double precision,
	"speed" double precision,
	"availability" double precision,
	"observed_at" timestamp with time zone NOT NULL,
	"delivery_id" text NOT NULL,
	CONSTRAINT "node_current_node_id_source_region_pk" PRIMARY KEY("node_id","source","region")
);
--> statement-breakpoint
CREATE TABLE "node_measurements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "node_measurements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"node_id" text NOT NULL,
	"source" text NOT NULL,
	"region" text DEFAULT '' NOT NULL,
	"method" text,
	"latency" double precision,
	"speed" double precision,
	"availability" double precision,
	"observed_at" timestamp with time zone NOT NULL,
	"delivery_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"node_key" text NOT NULL,
	"url" text NOT NULL,
	"name" text NOT NULL,
	"protocol" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"country" text,
	"legacy_score" double precision,
	"status" text DEFAULT 'active' NOT NULL,
	"stale_since" timestamp with time zone,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"owner_source" text NOT NULL,
	"latency" double precision,
	"speed" double precision,
	"availability" double precision,
	"observed_at" timestamp with time zone,
	"metrics_source" text,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"next_run_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "node_current" ADD CONSTRAINT "node_current_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_measurements" ADD CONSTRAINT "node_measurements_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_received_idx" ON "deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "node_current_delivery_idx" ON "node_current" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "node_measurements_node_idx" ON "node_measurements" USING btree ("node_id","observed_at");--> statement-breakpoint
CREATE INDEX "nodes_status_speed_idx" ON "nodes" USING btree ("status","speed" DESC NULLS LAST,"latency","id");--> statement-breakpoint
CREATE INDEX "nodes_status_latency_idx" ON "nodes" USING btree ("status","latency","id");--> statement-breakpoint
CREATE INDEX "nodes_status_country_idx" ON "nodes" USING btree ("status","country");--> statement-breakpoint
CREATE INDEX "nodes_status_protocol_idx" ON "nodes" USING btree ("status","protocol");--> statement-breakpoint
CREATE INDEX "nodes_owner_status_seen_idx" ON "nodes" USING btree ("owner_source","status","last_seen_at");