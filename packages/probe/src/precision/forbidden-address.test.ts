import { describe, expect, it } from "vitest";
import { isForbiddenAddress, isForbiddenHostname, redirectRefusal } from "./forbidden-address.js";

describe("isForbiddenAddress", () => {
  it.each([
    "169.254.169.254",
    "169.254.0.1",
    "169.254.255.255",
    "169.254.0.23", // Tencent Cloud
    "100.100.100.200", // Alibaba Cloud
    "fe80::1",
    "FE80::1%eth0",
    "[fe80::abcd]",
    "febf:ffff::1",
    "fd00:ec2::254", // AWS IPv6
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "64:ff9b::169.254.169.254",
    "64:ff9b::100.100.100.200",
    "::169.254.169.254",
  ])("refuses %s", (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    "127.0.0.1", // loopback: configured URLs and node hosts may be local
    "::1",
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "100.100.100.201",
    "169.253.255.255",
    "169.255.0.0",
    "fec0::1",
    "fd00:ec2::253",
    "203.0.113.7",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "not-an-ip",
    "",
  ])("allows %s", (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});

describe("isForbiddenHostname", () => {
  it("knows the metadata names, in any case, with a trailing dot", () => {
    expect(isForbiddenHostname("metadata.google.internal")).toBe(true);
    expect(isForbiddenHostname("METADATA.Google.Internal.")).toBe(true);
    expect(isForbiddenHostname("metadata")).toBe(true);
    expect(isForbiddenHostname("files.example")).toBe(false);
    expect(isForbiddenHostname("metadata.google.internal.example")).toBe(false);
  });
});

describe("redirectRefusal", () => {
  const resolveTo =
    (...addresses: string[]) =>
    async () =>
      addresses;

  it("checks every address a name resolves to", async () => {
    const url = new URL("http://files.example/x");
    expect(await redirectRefusal(url, resolveTo("203.0.113.5", "2001:db8::5"))).toBeNull();
    expect(await redirectRefusal(url, resolveTo("203.0.113.5", "169.254.169.254"))).toBe(
      "a redirect to files.example is refused: it resolves to the link-local/metadata address 169.254.169.254",
    );
  });

  it("reads IP literals in every spelling URL parsing accepts, without resolving", async () => {
    const never = async (): Promise<string[]> => {
      throw new Error("must not resolve an IP literal");
    };
    for (const spelling of ["169.254.169.254", "2852039166", "0xa9.0xfe.0xa9.0xfe", "169.254.43518"]) {
      expect(await redirectRefusal(new URL(`http://${spelling}/`), never)).toMatch(
        /169\.254\.169\.254 is refused/,
      );
    }
    expect(await redirectRefusal(new URL("http://[fe80::1]/"), never)).toMatch(/fe80::1 is refused/);
    expect(await redirectRefusal(new URL("http://127.0.0.1:8080/"), never)).toBeNull();
  });

  it("refuses metadata names before resolving, other schemes, and names that do not resolve", async () => {
    const never = async (): Promise<string[]> => {
      throw new Error("must not resolve");
    };
    expect(await redirectRefusal(new URL("http://metadata.google.internal/"), never)).toMatch(
      /metadata host/,
    );
    expect(await redirectRefusal(new URL("file:///etc/passwd"), never)).toMatch(/only http and https/);
    const notFound = async (): Promise<string[]> => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    expect(await redirectRefusal(new URL("http://nowhere.example/"), notFound)).toBe(
      "the redirect target nowhere.example does not resolve (ENOTFOUND)",
    );
  });

  it("resolves with the system resolver by default (localhost is allowed)", async () => {
    expect(await redirectRefusal(new URL("http://localhost/"))).toBeNull();
  });
});
