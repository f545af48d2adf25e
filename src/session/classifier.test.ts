import { describe, expect, test } from "bun:test";
import { classify, isPagerLine, joinPages } from "./classifier.ts";

/** classify() of a tail, reduced to what these tests are about. */
const of = (tail: string) => {
  const { state, prompt, cliMode } = classify(tail);
  return cliMode === undefined ? { state, prompt } : { state, prompt, cliMode };
};

describe("classify", () => {
  test("network CLI modes: IOS/NX-OS/EOS/ASA user, enable, config and its submodes", () => {
    expect(["Router>", "Router#", "Router(config)#", "Router(config-if)#", "core-sw1.lab(config-router)# ", "switch(config-if-range)#", "fw01(config-line)#"].map(of)).toEqual([
      { state: "at_prompt", prompt: "Router>", cliMode: "user" },
      { state: "at_prompt", prompt: "Router#", cliMode: "enable" },
      { state: "at_prompt", prompt: "Router(config)#", cliMode: "config" },
      { state: "at_prompt", prompt: "Router(config-if)#", cliMode: "config-if" },
      { state: "at_prompt", prompt: "core-sw1.lab(config-router)#", cliMode: "config-router" },
      { state: "at_prompt", prompt: "switch(config-if-range)#", cliMode: "config-if-range" },
      { state: "at_prompt", prompt: "fw01(config-line)#", cliMode: "config-line" },
    ]);
  });

  test("network CLI modes: IOS-XR, Junos ([edit] above # is config), Huawei/H3C views, ROMMON and the boot loader", () => {
    expect(
      [
        "RP/0/RSP0/CPU0:xr-edge#",
        "RP/0/RSP0/CPU0:xr-edge(config)#",
        "admin@mx1> ",
        "\n[edit]\nadmin@mx1# ",
        "\n[edit interfaces ge-0/0/0]\nadmin@mx1# ",
        "<HUAWEI>",
        "[HUAWEI]",
        "[~HUAWEI-GigabitEthernet0/0/1]",
        "rommon 1 >",
        "switch: ",
      ].map(of),
    ).toEqual([
      { state: "at_prompt", prompt: "RP/0/RSP0/CPU0:xr-edge#", cliMode: "enable" },
      { state: "at_prompt", prompt: "RP/0/RSP0/CPU0:xr-edge(config)#", cliMode: "config" },
      { state: "at_prompt", prompt: "admin@mx1>", cliMode: "user" },
      { state: "at_prompt", prompt: "admin@mx1#", cliMode: "config" },
      { state: "at_prompt", prompt: "admin@mx1#", cliMode: "config" },
      { state: "at_prompt", prompt: "<HUAWEI>", cliMode: "user" },
      { state: "at_prompt", prompt: "[HUAWEI]", cliMode: "system" },
      { state: "at_prompt", prompt: "[~HUAWEI-GigabitEthernet0/0/1]", cliMode: "system" },
      { state: "at_prompt", prompt: "rommon 1 >", cliMode: "rommon" },
      { state: "at_prompt", prompt: "switch:", cliMode: "bootloader" },
    ]);
  });

  test("shells and REPLs stay prompts without a cli_mode", () => {
    expect(["$ ", "user@host:~$ ", "root@host:/etc# ", "[root@host ~]# ", "bash-5.2$ ", "sh-5.2# ", ">>> ", "mysql> ", "postgres=# ", "% "].map(of)).toEqual([
      { state: "at_prompt", prompt: "$" },
      { state: "at_prompt", prompt: "user@host:~$" },
      { state: "at_prompt", prompt: "root@host:/etc#" },
      { state: "at_prompt", prompt: "[root@host ~]#" },
      { state: "at_prompt", prompt: "bash-5.2$" },
      { state: "at_prompt", prompt: "sh-5.2#" },
      { state: "at_prompt", prompt: ">>>" },
      { state: "at_prompt", prompt: "mysql>" },
      { state: "at_prompt", prompt: "postgres=#" },
      { state: "at_prompt", prompt: "%" },
    ]);
  });

  test("login and password prompts of consoles and gettys", () => {
    expect(["\r\nUser Access Verification\n\nUsername: ", "debian-box login: ", "login as: ", "User Name:", "Password: ", "\nRouter>enable\nPassword: ", "Enter secret: "].map(of)).toEqual([
      { state: "at_prompt", prompt: "Username:" },
      { state: "at_prompt", prompt: "debian-box login:" },
      { state: "at_prompt", prompt: "login as:" },
      { state: "at_prompt", prompt: "User Name:" },
      { state: "password_prompt", prompt: "Password:" },
      { state: "password_prompt", prompt: "Password:" },
      { state: "password_prompt", prompt: "Enter secret:" },
    ]);
  });

  test("pagers of IOS, ProCurve, Huawei, Junos, Dell, more(1) and less", () => {
    const pagers = [
      " --More-- ",
      "-- MORE --, next page: Space, next line: Enter, quit: Control-C",
      "<--- More --->",
      "  ---- More ----",
      "---(more)---",
      "---(more 42%)---",
      "--More-- or (q)uit",
      "--More--(42%)",
      "Press any key to continue (Q to quit)",
      "(END)",
      ":",
    ];
    expect(pagers.map((line) => of(`line\n${line}`).state)).toEqual(pagers.map(() => "pager"));
    expect(pagers.every(isPagerLine)).toBe(true);
  });

  test("confirmations: [confirm], [yes/no], IOS questions with a default in brackets", () => {
    expect(["Proceed with reload? [confirm]", "Destination filename [startup-config]? ", "Address or name of remote host []? ", "Are you sure you want to continue connecting (yes/no/[fingerprint])? "].map((t) => of(t).state)).toEqual([
      "confirmation",
      "confirmation",
      "confirmation",
      "confirmation",
    ]);
  });

  test("output in progress is running; nothing yet is unknown; a line that only mentions a prompt word is no prompt", () => {
    expect([of("Building configuration...\n"), of("Loading 45%"), of("Last login: Mon Jan 1 from 10.0.0.1\nwelcome"), classify("", { hasOutput: false }).state]).toEqual([
      { state: "running", prompt: undefined },
      { state: "running", prompt: undefined },
      { state: "running", prompt: undefined },
      "unknown",
    ]);
  });
});

describe("joinPages", () => {
  test("IOS: ' --More-- ' then backspace-space-backspace erase; pages join as one output", () => {
    const erase = "\b".repeat(10) + " ".repeat(10) + "\b".repeat(10);
    expect(joinPages(["Port 1\r\nPort 2\r\n --More-- ", `${erase}Port 3\r\n --More-- `, `${erase}Port 4\r\nRouter#`])).toBe("Port 1\r\nPort 2\r\nPort 3\r\nPort 4\r\nRouter#");
  });

  test("Junos CR-spaces-CR erase, more(1) CR ESC[K erase, ANSI-colored prompts", () => {
    expect(joinPages(["a\r\n---(more 50%)---", `\r${" ".repeat(40)}\rb\r\n`])).toBe("a\r\nb\r\n");
    expect(joinPages(["a\n\x1b[7m--More--(50%)\x1b[27m", "\r\x1b[Kb\n"])).toBe("a\nb\n");
  });

  test("a prompt with help text goes whole; a device that moves to a new line after the answer leaves no blank line", () => {
    expect(joinPages(["a\r\n-- MORE --, next page: Space, next line: Enter, quit: Control-C", "\r\nb\r\n"])).toBe("a\r\nb\r\n");
    expect(joinPages(["a\r\nPress any key to continue (Q to quit)", "\r\n\r\nb"])).toBe("a\r\n\r\nb");
  });

  test("text before the prompt on its line is kept; a segment without a prompt is left alone; nothing after the answer yet", () => {
    expect(joinPages(["a\r\nlast line --More--", "\r\nb"])).toBe("a\r\nlast line\r\nb");
    expect(joinPages(["no prompt here", "b"])).toBe("no prompt here" + "b");
    expect(joinPages(["a\r\n --More-- ", ""])).toBe("a\r\n");
    expect(joinPages(["only one segment --More--"])).toBe("only one segment --More--");
  });
});
