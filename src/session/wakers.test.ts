import { describe, expect, test } from "bun:test";
import { abortWaiters, Wakers } from "./wakers.ts";

describe("Wakers", () => {
  test("waits on one signal share one abort listener; an abort resolves each that still waits; a wake leaves none behind", async () => {
    const wakers = new Wakers();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    for (let i = 0; i < 100; i++) {
      const next = wakers.next(60_000, controller.signal);
      wakers.wake();
      await next;
    }
    const left = abortWaiters(controller.signal).size;
    const order: string[] = [];
    const a = wakers.next(60_000, controller.signal).then(() => order.push("a"));
    const b = wakers.next(60_000, controller.signal).then(() => order.push("b"));
    controller.abort();
    await Promise.all([a, b]);
    const afterAbort = wakers.next(60_000, controller.signal).then(() => order.push("after"));
    await afterAbort;
    expect({ listeners, left, order, waitingAfter: abortWaiters(controller.signal).size }).toEqual({ listeners: 1, left: 0, order: ["a", "b", "after"], waitingAfter: 0 });
  });
});
