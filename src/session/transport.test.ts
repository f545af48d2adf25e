import { describe, expect, test } from "bun:test";
import { HeldData } from "./transport.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("HeldData", () => {
  test("what is emitted before the first listener reaches it, in order, once; later data goes straight through", () => {
    const data = new HeldData();
    data.emit(bytes(1));
    data.emit(bytes(2, 3));
    const first: number[][] = [];
    data.on((b) => first.push([...b]));
    data.emit(bytes(4));
    const second: number[][] = [];
    data.on((b) => second.push([...b]));
    data.emit(bytes(5));
    expect({ first, second }).toEqual({ first: [[1], [2, 3], [4], [5]], second: [[5]] });
  });

  test("held data is capped: the oldest chunks go first, the newest chunk always stays", () => {
    const data = new HeldData(4);
    data.emit(bytes(1, 1));
    data.emit(bytes(2, 2));
    data.emit(bytes(3, 3));
    data.emit(bytes(4, 4, 4, 4, 4));
    const got: number[][] = [];
    data.on((b) => got.push([...b]));
    expect(got).toEqual([[4, 4, 4, 4, 4]]);
    const again = new HeldData(4);
    again.emit(bytes(1, 1));
    again.emit(bytes(2));
    again.emit(bytes(3));
    const kept: number[][] = [];
    again.on((b) => kept.push([...b]));
    expect(kept).toEqual([[1, 1], [2], [3]]);
  });

  test("a listener that unsubscribes: data is held again for the next one", () => {
    const data = new HeldData();
    const got: number[][] = [];
    const sub = data.on((b) => got.push([...b]));
    data.emit(bytes(1));
    sub[Symbol.dispose]();
    data.emit(bytes(2));
    const next: number[][] = [];
    data.on((b) => next.push([...b]));
    expect({ got, next }).toEqual({ got: [[1]], next: [[2]] });
  });
});
