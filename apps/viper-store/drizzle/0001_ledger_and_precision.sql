CREATE TABLE "precision_tests" (
	"id" text PRIMARY KEY NOT NULL,
	"node_id" text NOT NULL,
	"via" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"reserved_bytes" bigint NOT NULL,
	"status" text NOT NULL,
	"url" text,
	"bytes_downloaded" bigint,
	"traffic_consumed_bytes" bigint,
	"ttfb_ms" double precision,
	"duration_ms" double precision,
	"mb_per_s" double precision,
	"mbit_per_s" double precision,
	"p90_mb_per_s" double precision,
	"error" text,
	"client_ip" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "traffic_ledger" (
	"day" date NOT NULL,
	"mechanism" text NOT NULL,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "traffic_ledger_day_mechanism_pk" PRIMARY KEY("day","mechanism")
);
--> statement-breakpoint
ALTER TABLE "precision_tests" ADD CONSTRAINT "precision_tests_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "precision_tests_node_idx" ON "precision_tests" USING btree ("node_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "precision_tests_one_running_per_node" ON "precision_tests" USING btree ("node_id") WHERE "precision_tests"."finished_at" IS NULL;