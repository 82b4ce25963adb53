/**
 * Grafana's published types as its JSON looks.
 *
 * @grafana/schema declares enums (ThresholdsMode, FieldColorModeId, MappingType, ...) as
 * TypeScript enums, and a string in JSON is never assignable to a string enum. `Json<T>` is T
 * with every string enum replaced by the union of the strings it stands for, so a dashboard's
 * JSON is checked against exactly the values the enum allows. Numeric enums stay: TypeScript
 * accepts a number literal that is one of their members and rejects any other.
 */
export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

/** A panel with no field config of its own (stat, gauge, text, ...) takes no `custom` keys. */
export type NoCustomFieldConfig = Record<string, never>;
