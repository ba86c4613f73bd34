// Reads Glance directly (not through Pulumi), so the e2e tests check what really reached the cloud.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface GlanceImage {
  id: string;
  name: string;
  status: string;
  checksum: string | null;
  size: number | null;
  visibility: string;
  min_disk: number;
  tags: string[];
  [property: string]: unknown;
}

export class Glance {
  private token?: string;
  private project?: string;
  private readonly auth: { auth_url: string; username: string; password: string; project_name: string };

  constructor(
    cloudsYaml: string,
    private readonly glanceUrl: string,
    cloud = "local",
  ) {
    this.auth = parse(readFileSync(cloudsYaml, "utf8")).clouds[cloud].auth;
  }

  private async login(): Promise<string> {
    const body = {
      auth: {
        identity: {
          methods: ["password"],
          password: {
            user: { name: this.auth.username, domain: { id: "default" }, password: this.auth.password },
          },
        },
        scope: { project: { name: this.auth.project_name, domain: { id: "default" } } },
      },
    };
    const res = await fetch(`${this.auth.auth_url.replace(/\/$/, "")}/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`Keystone refused the test's login: ${res.status} ${await res.text()}`);
    this.project = ((await res.json()) as { token: { project: { id: string } } }).token.project.id;
    return res.headers.get("x-subject-token")!;
  }

  /** The ID of the project the cloud's credentials are scoped to. */
  async projectId(): Promise<string> {
    await this.authToken();
    return this.project!;
  }

  /** A token for direct API calls (the benchmark's curl upload). */
  async authToken(): Promise<string> {
    this.token ??= await this.login();
    return this.token;
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { "x-auth-token": await this.authToken() };
    // Glance takes updates as a JSON patch of its own media type.
    if (body !== undefined)
      headers["content-type"] =
        method === "PATCH" ? "application/openstack-images-v2.1-json-patch" : "application/json";
    const res = await fetch(`${this.glanceUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`Glance ${method} ${path}: ${res.status} ${await res.text()}`);
    return res;
  }

  private async get(path: string): Promise<any> {
    return (await this.request("GET", path)).json();
  }

  /** Deletes an image the stack no longer manages (one it retained). */
  async remove(id: string): Promise<void> {
    await this.request("DELETE", `/v2/images/${id}`);
  }

  /** Creates an empty (queued) raw image record and returns its ID. */
  async create(name: string): Promise<string> {
    const res = await this.request("POST", "/v2/images", {
      name,
      disk_format: "raw",
      container_format: "bare",
    });
    return ((await res.json()) as { id: string }).id;
  }

  /** Creates a raw image record carrying `properties` (queued, until data comes) and returns its ID. */
  async createWith(name: string, properties: Record<string, string>): Promise<string> {
    const res = await this.request("POST", "/v2/images", {
      name,
      disk_format: "raw",
      container_format: "bare",
      ...properties,
    });
    return ((await res.json()) as { id: string }).id;
  }

  /** Uploads a few bytes as the image's data (it becomes active). */
  async upload(id: string, data = "nixos-cloud-image test data"): Promise<void> {
    const res = await fetch(this.fileUrl(id), {
      method: "PUT",
      headers: { "x-auth-token": await this.authToken(), "content-type": "application/octet-stream" },
      body: data,
    });
    if (!res.ok) throw new Error(`Glance PUT ${id}/file: ${res.status} ${await res.text()}`);
  }

  /** Deactivates an active image, as an admin does with one that must not boot. */
  async deactivate(id: string): Promise<void> {
    await this.request("POST", `/v2/images/${id}/actions/deactivate`);
  }

  /** Sets a property of the image (as its owner would, outside the stack); undefined removes it. */
  async setProperty(id: string, key: string, value: string | undefined): Promise<void> {
    await this.request("PATCH", `/v2/images/${id}`, [
      value === undefined ? { op: "remove", path: `/${key}` } : { op: "add", path: `/${key}`, value },
    ]);
  }

  /** Sets (or clears) the image's protected flag. */
  async protect(id: string, on: boolean): Promise<void> {
    await this.request("PATCH", `/v2/images/${id}`, [{ op: "replace", path: "/protected", value: on }]);
  }

  /** The URL a PUT of the image data goes to. */
  fileUrl(id: string): string {
    return `${this.glanceUrl}/v2/images/${id}/file`;
  }

  /** Every image the test's project can see (admin sees all), any status; hidden ones (os_hidden) only when asked. */
  async images({ hidden = false } = {}): Promise<GlanceImage[]> {
    return (await this.get(`/v2/images?limit=1000${hidden ? "&os_hidden=true" : ""}`)).images;
  }

  /** Sets an image's visibility (as its owner would, outside the stack). */
  async setVisibility(id: string, visibility: string): Promise<void> {
    await this.request("PATCH", `/v2/images/${id}`, [
      { op: "replace", path: "/visibility", value: visibility },
    ]);
  }

  /** The image's members: project ID → status (pending, accepted, rejected). */
  async members(id: string): Promise<Record<string, string>> {
    const { members } = await this.get(`/v2/images/${id}/members`);
    return Object.fromEntries(
      members.map((m: { member_id: string; status: string }) => [m.member_id, m.status]),
    );
  }

  async image(id: string): Promise<GlanceImage> {
    return this.get(`/v2/images/${id}`);
  }
}
