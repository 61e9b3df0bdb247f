/**
 * Makes `target[key]` a table built on first read. After that read (or an assignment) it is a plain
 * data property holding the built rows, so controls change them in place as they change any other
 * table. The property keeps its place among the object's keys, so serialising the organisation gives
 * the same text as building every table up front (test/sandbox/generator-fingerprint.test.ts).
 */
export function defineLazyTable<T extends object, K extends keyof T>(
  target: T,
  key: K,
  build: () => T[K],
): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => settle(build()),
    set: (value: T[K]) => {
      settle(value);
    },
  });
}
