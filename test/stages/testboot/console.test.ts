import assert from "node:assert/strict";
import {
  bootFinished,
  consoleFingerprints,
  consoleTail,
  fingerprintToPin,
  nothingToBoot,
} from "../../../stages/testboot/console.ts";

const ED = "SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
const RSA = "SHA256:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const USER = "SHA256:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";

/** What cloud-init's keys-to-console module prints, through syslog, on a serial console. */
const cloudInit = [
  "[   42.1] cloud-init[512]: ci-info: 256 " + USER + " nixos@laptop (ED25519)",
  "<14>Dec  1 21:00:00 ec2: #############################################################",
  "<14>Dec  1 21:00:00 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----",
  `<14>Dec  1 21:00:00 ec2: 3072 ${RSA} root@guest (RSA)`,
  `<14>Dec  1 21:00:00 ec2: 256 ${ED}= root@guest (ED25519)`,
  "<14>Dec  1 21:00:00 ec2: -----END SSH HOST KEY FINGERPRINTS-----",
  "Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 21:00:01 +0000. Up 106.2 seconds",
].join("\r\n");

describe("console", () => {
  it("reads the host key fingerprints from cloud-init's block only, and pins ED25519 first", () => {
    const prints = consoleFingerprints(cloudInit);
    assert.deepEqual(prints, [
      { fingerprint: RSA, type: "RSA" },
      { fingerprint: ED, type: "ED25519" },
    ]);
    assert.equal(fingerprintToPin(prints)?.fingerprint, ED);
  });

  it("reads ssh-keygen -l lines anywhere when there is no block, and finds none in a console without them", () => {
    assert.deepEqual(consoleFingerprints(`Host key: 256 ${ED} root@h (ED25519)\n`), [
      { fingerprint: ED, type: "ED25519" },
    ]);
    assert.deepEqual(consoleFingerprints("Booting the kernel\nWelcome\n"), []);
    assert.equal(fingerprintToPin([]), undefined);
  });

  it("tells when the boot is over: cloud-init finished where it runs, else a login prompt", () => {
    const running = "Cloud-init v. 22.4.2 running 'init-local' at Tue, 01 Dec 2026 20:59:00 +0000.\n";
    assert.ok(bootFinished(running + cloudInit));
    assert.ok(
      !bootFinished(running + "Debian GNU/Linux 12 guest ttyS0\n\nguest login: "),
      "getty before cloud-final",
    );
    assert.ok(bootFinished("Debian GNU/Linux 12 guest ttyS0\n\nguest login: "));
    assert.ok(!bootFinished("[  3.2] Run /init as init process\n"));
  });

  it("gives the last lines without escape sequences (also those that lost their ESC) or blank lines", () => {
    assert.deepEqual(
      consoleTail("a\n\n\x1b[0;32m  OK  \x1b[0m] Started ssh\r\nb\n[[0;32m  OK  [0m] c\n", 3),
      ["  OK  ] Started ssh", "b", "[  OK  ] c"],
    );
  });

  it("finds the firmware's word that nothing boots (SeaBIOS, OVMF), and nothing in a booting guest's console", () => {
    assert.equal(
      nothingToBoot(
        "SeaBIOS (version 1.16.2)\r\nBooting from Hard Disk...\r\nBoot failed: not a bootable disk\r\n",
      ),
      "Boot failed: not a bootable disk",
    );
    assert.equal(
      nothingToBoot("\x1b[2J\x1b[01;01HBdsDxe: No bootable option or device was found.\r\n"),
      "BdsDxe: No bootable option or device was found.",
    );
    // What Debian's OVMF printed here for a BIOS-only disk marked hw_firmware_type=uefi.
    const ovmf = [
      '\x1b[2J[=3h[=3hBdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x1)/Pci(0x0,0x0): Not Found',
      'BdsDxe: starting Boot0002 "EFI Internal Shell" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)',
      "UEFI Interactive Shell v2.2",
      "Shell> ",
    ].join("\r\n");
    assert.equal(nothingToBoot(ovmf), "UEFI Interactive Shell v2.2");
    assert.match(consoleTail(ovmf)[0] ?? "", /^BdsDxe: failed to load Boot0001/);
    assert.equal(nothingToBoot(cloudInit), undefined);
    assert.equal(nothingToBoot("[    0.000000] Linux version 6.1.0-50-amd64\n"), undefined);
  });
});
