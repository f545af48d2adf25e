// RFC 2217 COM-PORT-OPTION: the serial line settings a client asks of a network serial server
// and the server's answers (the same command + 100). Payloads only; protocol.ts wraps them in
// IAC SB 44 … IAC SE.

/** RFC 2217 commands sent by the client; the server answers with the same code + 100. */
export const COM_PORT = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;
export const SERVER_OFFSET = 100;

/** SET-CONTROL values (RFC 2217 §"SET-CONTROL"). */
export const CONTROL = {
  REQUEST_FLOW: 0,
  FLOW_NONE: 1,
  FLOW_XONXOFF: 2,
  FLOW_HARDWARE: 3,
  REQUEST_BREAK: 4,
  BREAK_ON: 5,
  BREAK_OFF: 6,
  REQUEST_DTR: 7,
  DTR_ON: 8,
  DTR_OFF: 9,
  REQUEST_RTS: 10,
  RTS_ON: 11,
  RTS_OFF: 12,
} as const;

export type Parity = "none" | "odd" | "even" | "mark" | "space";
export type FlowControl = "none" | "xonxoff" | "rtscts";
const PARITY_CODES: Record<Parity, number> = { none: 1, odd: 2, even: 3, mark: 4, space: 5 };
const STOP_CODES: Record<1 | 2, number> = { 1: 1, 2: 2 };
const FLOW_CODES: Record<FlowControl, number> = { none: CONTROL.FLOW_NONE, xonxoff: CONTROL.FLOW_XONXOFF, rtscts: CONTROL.FLOW_HARDWARE };

/** Port settings as the COM-PORT server reported them back (undefined: not answered yet). */
export interface ComPortState {
  baudRate?: number;
  dataBits?: number;
  parity?: Parity;
  stopBits?: number;
  flowControl?: FlowControl;
  dtr?: boolean;
  rts?: boolean;
  break?: boolean;
  /** RFC 2217 NOTIFY-LINESTATE / NOTIFY-MODEMSTATE bit masks, the last received. */
  lineState?: number;
  modemState?: number;
  /** The server's SIGNATURE answer, when it sent one. */
  signature?: string;
}

/** What a client asks for; undefined fields are left as the server has them. */
export interface ComPortSettings {
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 2;
  flowControl?: FlowControl;
}

/** The commands for `settings`, in RFC 2217's order: SET-BAUDRATE (u32 big-endian), -DATASIZE, -PARITY, -STOPSIZE, SET-CONTROL (flow). */
export function settingsCommands(settings: ComPortSettings): Uint8Array[] {
  const commands: Uint8Array[] = [];
  if (settings.baudRate !== undefined) {
    const v = settings.baudRate >>> 0;
    commands.push(Uint8Array.of(COM_PORT.SET_BAUDRATE, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255));
  }
  if (settings.dataBits !== undefined) commands.push(Uint8Array.of(COM_PORT.SET_DATASIZE, settings.dataBits));
  if (settings.parity !== undefined) commands.push(Uint8Array.of(COM_PORT.SET_PARITY, PARITY_CODES[settings.parity]));
  if (settings.stopBits !== undefined) commands.push(Uint8Array.of(COM_PORT.SET_STOPSIZE, STOP_CODES[settings.stopBits]));
  if (settings.flowControl !== undefined) commands.push(Uint8Array.of(COM_PORT.SET_CONTROL, FLOW_CODES[settings.flowControl]));
  return commands;
}

/** Applies a server's answer (command + 100, value) to `state`; false for anything that is not one. */
export function applyComPortAnswer(state: ComPortState, payload: Uint8Array): boolean {
  const command = payload[0]!;
  const value = payload.subarray(1);
  switch (command - SERVER_OFFSET) {
    case COM_PORT.SIGNATURE:
      state.signature = new TextDecoder().decode(value);
      break;
    case COM_PORT.SET_BAUDRATE:
      if (value.length >= 4) state.baudRate = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
      break;
    case COM_PORT.SET_DATASIZE:
      if (value[0] !== undefined && value[0] >= 5 && value[0] <= 8) state.dataBits = value[0];
      break;
    case COM_PORT.SET_PARITY: {
      const parity = (Object.keys(PARITY_CODES) as Parity[]).find((p) => PARITY_CODES[p] === value[0]);
      if (parity) state.parity = parity;
      break;
    }
    case COM_PORT.SET_STOPSIZE:
      if (value[0] === 1 || value[0] === 2) state.stopBits = value[0];
      else if (value[0] === 3) state.stopBits = 1.5;
      break;
    case COM_PORT.SET_CONTROL:
      switch (value[0]) {
        case CONTROL.FLOW_NONE:
          state.flowControl = "none";
          break;
        case CONTROL.FLOW_XONXOFF:
          state.flowControl = "xonxoff";
          break;
        case CONTROL.FLOW_HARDWARE:
          state.flowControl = "rtscts";
          break;
        case CONTROL.BREAK_ON:
        case CONTROL.BREAK_OFF:
          state.break = value[0] === CONTROL.BREAK_ON;
          break;
        case CONTROL.DTR_ON:
        case CONTROL.DTR_OFF:
          state.dtr = value[0] === CONTROL.DTR_ON;
          break;
        case CONTROL.RTS_ON:
        case CONTROL.RTS_OFF:
          state.rts = value[0] === CONTROL.RTS_ON;
          break;
      }
      break;
    case COM_PORT.NOTIFY_LINESTATE:
      if (value[0] !== undefined) state.lineState = value[0];
      break;
    case COM_PORT.NOTIFY_MODEMSTATE:
      if (value[0] !== undefined) state.modemState = value[0];
      break;
    default:
      return false;
  }
  return true;
}


/** Line settings as the RFC 2217 server answered them, with SPEC §2 names (only what it answered). */
export function comPortInfo(state: ComPortState): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  if (state.baudRate !== undefined) info.baud_rate = state.baudRate;
  if (state.dataBits !== undefined) info.data_bits = state.dataBits;
  if (state.parity !== undefined) info.parity = state.parity;
  if (state.stopBits !== undefined) info.stop_bits = state.stopBits;
  if (state.flowControl !== undefined) info.flow_control = state.flowControl;
  if (state.dtr !== undefined) info.dtr = state.dtr;
  if (state.rts !== undefined) info.rts = state.rts;
  if (state.modemState !== undefined) info.modem_state = state.modemState;
  if (state.lineState !== undefined) info.line_state = state.lineState;
  if (state.signature !== undefined) info.signature = state.signature;
  return info;
}
