// Preloaded (`node --import`) into servers that listen on every interface: binds them to
// 127.0.0.1 instead, and prints the port they got (`PORT=0` picks a free one) on stderr.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const port = args[0];
  if (typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port))) {
    const callbacks = args.filter((a) => typeof a === "function");
    this.once("listening", () => {
      console.error(`loopback: listening on 127.0.0.1:${this.address().port}`);
    });
    return listen.call(this, Number(port), "127.0.0.1", ...callbacks);
  }
  return listen.apply(this, args);
};
