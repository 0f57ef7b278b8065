/** Synthetic nodes for the benchmark, in the documentation address ranges. */
export function syntheticNodes(count: number, opts: { padding?: number } = {}): Record<string, unknown>[] {
  const pad = "p".repeat(opts.padding ?? 0);
  return Array.from({ length: count }, (_, i) => {
    const host = `${["192.0.2", "198.51.100", "203.0.113"][i % 3]}.${(Math.floor(i / 3) % 254) + 1}`;
    const port = 1024 + Math.floor(i / 762);
    const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    return {
      url: `vless://${uuid}@${host}:${port}?type=ws&security=tls&sni=n${i}.example&host=n${i}.example&path=%2F${pad}#bench-${i}`,
      name: `bench-${i} ${pad}`,
      country: ["SG", "JP", "US", "DE", "HK"][i % 5],
      latency: 20 + (i % 300),
      speed: ((i * 37) % 1000) / 10,
      availability: 50 + (i % 51),
    };
  });
}
