import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

const FIELDS_KEY = Symbol.for('kvr.config.fields');
const SECTION_KEY = Symbol.for('kvr.config.section');

export interface FieldOptions {
  /** A credential: never printed, redacted by `redactConfig`. @default false */
  secret?: boolean;
  /** Element type of an array field, for environment-variable coercion. @default 'string' */
  items?: 'string' | 'number';
}

export interface FieldInfo extends FieldOptions {
  key: string;
  doc: string;
}

/**
 * Declares one config field and documents it. Every field of every schema carries one: the list
 * drives environment-variable mapping, `--help` output and the configuration reference, so a
 * field without `@Doc` cannot be set from the environment (a unit test checks all schemas).
 */
export function Doc(text: string, options: FieldOptions = {}): PropertyDecorator {
  return (target, key) => {
    if (typeof key !== 'string') throw new TypeError('config fields must have string names');
    const own: FieldInfo[] = Reflect.hasOwnMetadata(FIELDS_KEY, target)
      ? (Reflect.getOwnMetadata(FIELDS_KEY, target) as FieldInfo[])
      : [...((Reflect.getMetadata(FIELDS_KEY, target) as FieldInfo[] | undefined) ?? [])];
    own.push({ key, doc: text, ...options });
    Reflect.defineMetadata(FIELDS_KEY, own, target);
  };
}

/** Marks a field as a nested config section of class `type` (validated recursively). */
export function Section(type: () => new () => object): PropertyDecorator {
  const typeDecorator = Type(type);
  const nested = ValidateNested();
  const object = IsObject();
  return (target, key) => {
    typeDecorator(target, key);
    nested(target, key);
    object(target, key);
    Reflect.defineMetadata(SECTION_KEY, type, target, key);
  };
}

export type SchemaClass<T extends object = object> = new () => T;

/** The documented fields of a schema class, in declaration order. */
export function fieldsOf(schema: SchemaClass): readonly FieldInfo[] {
  return (Reflect.getMetadata(FIELDS_KEY, schema.prototype) as FieldInfo[] | undefined) ?? [];
}

/** The section class of a nested field, or undefined for a leaf. */
export function sectionOf(schema: SchemaClass, key: string): SchemaClass | undefined {
  const factory = Reflect.getMetadata(SECTION_KEY, schema.prototype, key) as (() => SchemaClass) | undefined;
  return factory?.();
}

/**
 * The type of a leaf field (`String`, `Number`, `Boolean`, `Array` or `Object`): taken from the
 * default value when there is one (compilers emit `design:type` only for annotated fields), else
 * from the reflected TypeScript annotation.
 */
export function leafTypeOf(schema: SchemaClass, key: string, defaultValue: unknown): unknown {
  if (Array.isArray(defaultValue)) return Array;
  switch (typeof defaultValue) {
    case 'number':
      return Number;
    case 'boolean':
      return Boolean;
    case 'string':
      return String;
    default:
      return Reflect.getMetadata('design:type', schema.prototype, key) ?? String;
  }
}
