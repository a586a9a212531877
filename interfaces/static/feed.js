// The live feed client: first-message auth, a cursor (the last position received), and on any
// disconnect a reconnect with `after: cursor`, so no event is lost or repeated (docs/live-feed.md).
// A close for an expired token (4401) fetches a fresh short-lived token first.

export class Feed {
  constructor({ url, token, gatewayId, after, freshToken, onMessage, onStatus }) {
    Object.assign(this, { url, token, gatewayId, freshToken, onMessage, onStatus });
    this.cursor = Number.isInteger(after) ? after : null;
    this.seen = 0;
    this.reconnects = 0;
    this.delay = 500;
    this.stopped = false;
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.onStatus?.({ state: "connecting", cursor: this.cursor, reconnects: this.reconnects });
    socket.addEventListener("open", () => {
      const auth = { type: "auth", token: this.token, gateway_id: this.gatewayId };
      if (this.cursor !== null) auth.after = this.cursor;
      socket.send(JSON.stringify(auth));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "auth_ok") {
        this.delay = 500;
        this.onStatus?.({ state: "connected", cursor: this.cursor, reconnects: this.reconnects });
        return;
      }
      if (typeof message.position === "number") {
        if (this.cursor !== null && message.position <= this.cursor && message.type !== "caught_up" && message.type !== "heartbeat") return;
        this.cursor = Math.max(this.cursor ?? 0, message.position);
      }
      if (message.type === "caught_up" || message.type === "heartbeat") {
        this.onStatus?.({ state: "live", cursor: this.cursor, reconnects: this.reconnects });
        return;
      }
      this.seen += 1;
      this.onMessage?.(message);
    });
    socket.addEventListener("close", async (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.onStatus?.({ state: "disconnected", cursor: this.cursor, code: event.code, reconnects: this.reconnects });
      if (event.code === 4403 || event.code === 4400) return; // refused: retrying cannot help
      if (event.code === 4401) {
        try {
          this.token = await this.freshToken();
        } catch {
          this.onStatus?.({ state: "signed-out", cursor: this.cursor });
          return;
        }
      }
      this.reconnects += 1;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    });
  }

  // Drops the connection as a network failure would; the feed reconnects and resumes.
  interrupt() {
    this.socket?.close(4000, "interrupted by the page");
  }
}
