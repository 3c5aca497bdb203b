/* The device vault envelope opened in the browser, exactly as authvault/vault/ does on the server
   (envelope.py, slots.py, crypto.py, entries.py), and the codes of its accounts (otp.py).

   Crypto: WebCrypto for AES-256-GCM, HKDF-SHA256 and HMAC (SHA-1/256/512); scrypt from the
   vendored @noble/hashes (static/vendor/noble-hashes, pinned by package-lock.json). Order of
   checks as on the server: versions first, then shape, then a slot is opened, then the header MAC
   is verified before anything else of the envelope is used, then the entries' GCM tag.

   Nothing here writes anywhere: keys stay in memory as non-extractable CryptoKeys (the master key
   and every account secret), and the raw bytes they came from are overwritten once imported. */
import { scryptAsync } from "../vendor/noble-hashes/scrypt.js";

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();
export const FORMAT_VERSION = 1;
const AEGIS_FILE_VERSION = 1;
const HEADER_MAC_INFO = "authvault header mac v1";
const PASSKEY_HKDF_INFO = "authvault passkey slot v1";
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const DB_VERSION = 3;
const OTP_TYPES = ["totp", "hotp", "steam"];
const ALGORITHMS = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
const STEAM_CHARS = "23456789BCDFGHJKMNPQRTVWXY";

/* code: wrong_passphrase | wrong_passkey | slot_missing | vault_damaged | vault_version_unsupported
   | entry_unsupported | entry_invalid. The page turns the code into a message for a person. */
export class VaultError extends Error {
  constructor(code, detail) { super(code); this.code = code; this.detail = detail; }
}
const damaged = () => new VaultError("vault_damaged");

/* ---- bytes ------------------------------------------------------------------------------------ */
export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw damaged();
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
export function b64ToBytes(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw damaged();
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
export function b64urlToBytes(text) {
  let s = String(text).replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  return b64ToBytes(s);
}
export function bytesToB64url(buf) {
  const u = new Uint8Array(buf);
  let s = "";
  for (const c of u) s += String.fromCharCode(c);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function wipe(u8) { if (u8 && u8.fill) u8.fill(0); }

/* Python's json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False): the same
   escapes as JSON.stringify for text; keys sorted by code point (all of ours are ASCII). */
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw damaged();   // allow_nan=False
    if (typeof value === "number" && !Number.isInteger(value)) throw damaged();  // the header holds only integers
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(value[k])).join(",") + "}";
}

/* ---- envelope shape (envelope._parse, slots.Slot.from_json) ----------------------------------- */
function checkVersion(value, supported, versionError) {
  if (typeof value !== "number" || !Number.isInteger(value)) throw damaged();
  if (value > supported) throw new VaultError(versionError ? "vault_version_unsupported" : "vault_damaged", value);
  if (value < 1) throw damaged();
  return value;
}
const isStr = (v) => typeof v === "string";
const isInt = (v) => typeof v === "number" && Number.isInteger(v);

function parseSlot(obj) {
  if (!obj || typeof obj !== "object") throw damaged();
  const kind = obj.type;
  if (!["passphrase", "passkey", "recovery"].includes(kind)) throw damaged();
  const params = obj.key_params;
  if (!params || typeof params !== "object" || !isStr(obj.uuid)) throw damaged();
  const slot = { type: kind, uuid: obj.uuid, key: hexToBytes(obj.key), nonce: hexToBytes(params.nonce),
                 tag: hexToBytes(params.tag) };
  if (slot.nonce.length !== 12 || slot.tag.length !== 16) throw damaged();
  if (kind === "passkey") {
    if (!isStr(obj.credential_id) || !isStr(obj.info)) throw damaged();
    slot.credential_id = obj.credential_id; slot.salt = hexToBytes(obj.salt); slot.info = obj.info;
  } else {
    if (!isInt(obj.n) || !isInt(obj.r) || !isInt(obj.p)) throw damaged();
    slot.n = obj.n; slot.r = obj.r; slot.p = obj.p; slot.salt = hexToBytes(obj.salt);
  }
  return slot;
}

export function parseEnvelope(env) {
  if (!env || typeof env !== "object" || !env.authvault || typeof env.authvault !== "object") throw damaged();
  const av = env.authvault;
  const format = checkVersion(av.format, FORMAT_VERSION, true);
  checkVersion(env.version, AEGIS_FILE_VERSION, false);
  const header = env.header;
  if (!header || !Array.isArray(header.slots) || !header.params || typeof header.params !== "object") throw damaged();
  const slots = header.slots.map(parseSlot);
  const nonce = hexToBytes(header.params.nonce), tag = hexToBytes(header.params.tag);
  if (nonce.length !== 12 || tag.length !== 16) throw damaged();
  if (!isStr(av.device_id)) throw damaged();
  const mac = hexToBytes(av.header_mac);
  if (mac.length !== 32) throw damaged();
  return { format, deviceId: av.device_id, slots, nonce, tag, ciphertext: b64ToBytes(env.db), mac };
}

/* The slots a browser can open by itself: passphrase, and passkeys whose slot is keyed by the PRF
   output (a `device-key:` slot needs the server's HttpOnly cookie, so it cannot open offline). */
export function offlineSlots(env) {
  const p = parseEnvelope(env);
  return { passphrase: p.slots.some((s) => s.type === "passphrase"),
           passkeys: p.slots.filter((s) => s.type === "passkey" && !s.credential_id.startsWith("device-key:"))
                            .map((s) => s.credential_id) };
}

/* ---- key derivation and unwrapping (slots.py) ------------------------------------------------- */
function scryptSane(s) {
  return isInt(s.n) && isInt(s.r) && isInt(s.p) && s.n >= 2 && s.n <= MAX_SCRYPT_N && (s.n & (s.n - 1)) === 0
    && s.r >= 1 && s.r <= 32 && s.p >= 1 && s.p <= 16 && 128 * s.n * s.r <= MAX_SCRYPT_MEMORY;
}

async function aesGcmOpen(keyBytes, nonce, ciphertext, tag, aad) {
  const key = await subtle.importKey("raw", keyBytes, "AES-GCM", false, ["decrypt"]);
  const joined = new Uint8Array(ciphertext.length + tag.length);
  joined.set(ciphertext); joined.set(tag, ciphertext.length);
  const params = { name: "AES-GCM", iv: nonce, tagLength: 128 };
  if (aad) params.additionalData = aad;
  return new Uint8Array(await subtle.decrypt(params, key, joined));
}

async function unwrapWithKek(slot, kek) {
  let master;
  try { master = await aesGcmOpen(kek, slot.nonce, slot.key, slot.tag); }
  catch (e) { return null; }                  // the tag did not verify: not this credential
  finally { wipe(kek); }
  if (master.length !== 32) { wipe(master); throw damaged(); }
  return master;
}

export async function scryptKek(passphrase, salt, n, r, p) {
  // async: yields to the page now and then so a spinner keeps turning on a slow phone
  return scryptAsync(enc.encode(passphrase), salt, { N: n, r, p, dkLen: 32, asyncTick: 20, maxmem: 2 * MAX_SCRYPT_MEMORY });
}

async function hkdf(ikm, salt, info, length = 32) {
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: salt || new Uint8Array(0),
                                         info: enc.encode(info) }, key, length * 8);
  return new Uint8Array(bits);
}

/* ---- opening (envelope.unlock_with_*, envelope._verify) --------------------------------------- */
/* The master key as an object of CryptoKeys: { aes, mac } (non-extractable). */
async function masterKeys(masterBytes) {
  try {
    const aes = await subtle.importKey("raw", masterBytes, "AES-GCM", false, ["decrypt"]);
    const macBytes = await hkdf(masterBytes, null, HEADER_MAC_INFO);   // HKDF, no salt (RFC 5869: zeros)
    const mac = await subtle.importKey("raw", macBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify", "sign"]);
    wipe(macBytes);
    return { aes, mac };
  } finally { wipe(masterBytes); }
}

async function verifyAndOpen(env, parsed, keys, expectedDeviceId) {
  const av = env.authvault, header = env.header;
  const signed = { version: env.version, format: av.format, device_id: av.device_id,
                   slots: header.slots, params: header.params };
  const ok = await subtle.verify("HMAC", keys.mac, parsed.mac, enc.encode(canonicalJson(signed)));
  if (!ok) throw damaged();
  if (expectedDeviceId != null && parsed.deviceId !== expectedDeviceId) throw damaged();
  let db;
  try {
    const aad = enc.encode(canonicalJson({ device_id: parsed.deviceId, format: parsed.format }));
    const joined = new Uint8Array(parsed.ciphertext.length + 16);
    joined.set(parsed.ciphertext); joined.set(parsed.tag, parsed.ciphertext.length);
    const plain = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: parsed.nonce, additionalData: aad, tagLength: 128 },
                                                      keys.aes, joined));
    db = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
    wipe(plain);
  } catch (e) { throw damaged(); }
  if (!db || typeof db !== "object" || Array.isArray(db)) throw damaged();
  return db;
}

/* Open with the passphrase: every passphrase slot is tried (as _unwrap_scrypt does). Returns the
   decrypted Aegis db; throws VaultError. */
export async function openWithPassphrase(env, passphrase, expectedDeviceId) {
  const parsed = parseEnvelope(env);
  const candidates = parsed.slots.filter((s) => s.type === "passphrase");
  if (!candidates.length) throw new VaultError("slot_missing");
  let insane = 0;
  for (const slot of candidates) {
    if (!scryptSane(slot)) { insane++; continue; }
    const master = await unwrapWithKek(slot, await scryptKek(passphrase, slot.salt, slot.n, slot.r, slot.p));
    if (master) return verifyAndOpen(env, parsed, await masterKeys(master), expectedDeviceId);
  }
  if (insane === candidates.length) throw damaged();
  throw new VaultError("wrong_passphrase");
}

/* Open with a passkey's PRF output (bytes) for the slot of `credentialId` (base64url). */
export async function openWithPrf(env, credentialId, prfOutput, expectedDeviceId) {
  const parsed = parseEnvelope(env);
  const candidates = parsed.slots.filter((s) => s.type === "passkey" && s.credential_id === credentialId);
  if (!candidates.length) throw new VaultError("slot_missing");
  if (!prfOutput || prfOutput.length < 16) throw new VaultError("wrong_passkey");
  for (const slot of candidates) {
    const kek = await hkdf(new Uint8Array(prfOutput), slot.salt, slot.info || PASSKEY_HKDF_INFO);
    const master = await unwrapWithKek(slot, kek);
    if (master) return verifyAndOpen(env, parsed, await masterKeys(master), expectedDeviceId);
  }
  throw new VaultError("wrong_passkey");
}

/* ---- entries (entries.py: account_from_entry, accounts_from_db) ------------------------------- */
export function base32Decode(text) {
  const compact = /^[A-Z2-7]+$/.test(text) ? text : text.replace(/[\s=-]/g, "").toUpperCase();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  if (compact.length % 8 === 1 || compact.length % 8 === 3 || compact.length % 8 === 6) throw new VaultError("entry_invalid");
  const out = new Uint8Array(Math.floor((compact.length * 5) / 8));
  let bits = 0, value = 0, j = 0;
  for (const ch of compact) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new VaultError("entry_invalid");
    value = (value << 5) | v; bits += 5;
    if (bits >= 8) { out[j++] = (value >>> (bits - 8)) & 0xff; bits -= 8; }
  }
  return out;
}

function text(entry, key) {
  const v = entry[key];
  if (v == null) return "";
  if (typeof v !== "string") throw new VaultError("entry_invalid");
  return v;
}
function intField(info, key, dflt, low, high) {
  const v = key in info ? info[key] : dflt;
  if (!isInt(v) || v < low || v > high) throw new VaultError("entry_invalid");
  return v;
}
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
function idOf(entry, extra) {
  if (isStr(extra.id)) return extra.id;
  const raw = entry.uuid;
  if (!isStr(raw)) return null;
  if (CANONICAL_UUID.test(raw)) return raw.replace(/-/g, "");
  const loose = raw.replace(/^urn:uuid:/i, "").replace(/[{}-]/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(loose) ? loose : raw;
}

async function accountFromEntry(entry, groupNames) {
  if (!entry || typeof entry !== "object") throw new VaultError("entry_invalid");
  const kind = entry.type;
  if (!OTP_TYPES.includes(kind)) throw new VaultError("entry_unsupported", String(kind));
  const info = entry.info;
  if (!info || typeof info !== "object" || !isStr(info.secret)) throw new VaultError("entry_invalid");
  let algorithm = "algo" in info ? info.algo : "SHA1";
  algorithm = isStr(algorithm) ? algorithm.toUpperCase() : algorithm;
  if (!(algorithm in ALGORITHMS)) throw new VaultError("entry_invalid");
  const extra = entry.authvault && typeof entry.authvault === "object" ? entry.authvault : {};
  const acc = { id: idOf(entry, extra), type: kind, issuer: text(entry, "issuer"), name: text(entry, "name"),
                algorithm, digits: intField(info, "digits", kind === "steam" ? 5 : 6, 1, 10), note: text(entry, "note"),
                period: null, counter: null, group: "", action_required: extra.action_required === true,
                backup_policy: ["backup", "this-device-only"].includes(extra.backup_policy) ? extra.backup_policy : "backup" };
  if (kind === "hotp") acc.counter = intField(info, "counter", 0, 0, Number.MAX_SAFE_INTEGER);
  else acc.period = intField(info, "period", 30, 1, 2 ** 31 - 1);
  if (kind === "steam") { acc.algorithm = "SHA1"; acc.digits = 5; acc.period = 30; }   // otp.validate
  acc.favorite = entry.favorite === true;
  // the icon the list shows (views.chosen_icon): a chosen slug, never an image from an import
  const image = isStr(entry.icon) && entry.icon;
  const own = !image && isStr(extra.icon) ? extra.icon : null;
  acc.icon = own && !own.startsWith("data:") && own.length <= 64 ? own : null;
  if (Array.isArray(entry.groups)) {
    for (const ref of entry.groups) if (isStr(ref) && isStr(groupNames[ref])) { acc.group = groupNames[ref]; break; }
  } else if (isStr(entry.group)) acc.group = entry.group;
  const secret = base32Decode(info.secret);
  try {
    acc.key = await subtle.importKey("raw", secret, { name: "HMAC", hash: ALGORITHMS[acc.algorithm] }, false, ["sign"]);
  } finally { wipe(secret); }
  return acc;
}

/* The accounts of a decrypted Aegis db, each with its secret as a non-extractable HMAC key. */
export async function accountsFromDb(db) {
  const version = db && db.version;
  if (!isInt(version) || version < 1) throw new VaultError("entry_invalid");
  if (version > DB_VERSION) throw new VaultError("vault_version_unsupported", version);
  if (!Array.isArray(db.entries)) throw new VaultError("entry_invalid");
  const names = {};
  for (const g of db.groups || []) if (g && isStr(g.uuid) && isStr(g.name)) names[g.uuid] = g.name;
  const out = [];
  for (const entry of db.entries) out.push(await accountFromEntry(entry, names));
  // the decrypted entries (secrets as base32 text) are dropped here: only CryptoKeys stay
  db.entries.length = 0;
  return out;
}

/* ---- codes (otp.py; RFC 4226, RFC 6238, Steam) ------------------------------------------------ */
async function truncated(key, counter) {
  const msg = new Uint8Array(8);
  let c = BigInt(counter);
  for (let i = 7; i >= 0; i--) { msg[i] = Number(c & 0xffn); c >>= 8n; }
  const mac = new Uint8Array(await subtle.sign("HMAC", key, msg));
  const off = mac[mac.length - 1] & 0x0f;
  return ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
}

/* The code of `acc` (its `key`, `type`, `digits`) for one HOTP counter / TOTP time step. */
export async function codeFor(acc, counter) {
  let value = await truncated(acc.key, counter);
  if (acc.type === "steam") {
    let out = "";
    for (let i = 0; i < 5; i++) { out += STEAM_CHARS[value % STEAM_CHARS.length]; value = Math.floor(value / STEAM_CHARS.length); }
    return out;
  }
  return String(value % 10 ** acc.digits).padStart(acc.digits, "0");
}

/* As /api/codes shows one account at time `now` (seconds): code, next_code, remaining. */
export async function accountView(acc, now) {
  const view = { id: acc.id, issuer: acc.issuer, name: acc.name, type: acc.type, algorithm: acc.algorithm,
                 digits: acc.type === "steam" ? 5 : acc.digits, period: acc.type === "hotp" ? null : acc.period,
                 counter: acc.type === "hotp" ? acc.counter : null, note: acc.note, backup_policy: acc.backup_policy,
                 action_required: acc.action_required, group: acc.group, favorite: acc.favorite, icon: acc.icon,
                 code: null, next_code: null, remaining: null };
  if (acc.action_required) return view;
  if (acc.type === "hotp") {
    view.code = await codeFor(acc, acc.counter);
    view.next_code = await codeFor(acc, acc.counter + 1);
    return view;
  }
  const step = Math.floor(now / acc.period);
  view.code = await codeFor(acc, step);
  view.next_code = await codeFor(acc, step + 1);
  view.remaining = Math.max(1, Math.ceil(acc.period - (now - step * acc.period)));
  return view;
}

/* For tests and known answers: an HMAC key from raw secret bytes. */
export async function keyFromBytes(bytes, algorithm = "SHA1") {
  return subtle.importKey("raw", bytes, { name: "HMAC", hash: ALGORITHMS[algorithm] }, false, ["sign"]);
}
