/*
 * The lab's "devices" boot sector: 16-bit real mode, loaded by SeaBIOS at 0000:7C00.
 *
 * Three libvirt events need the guest to act: the watchdog fires only once the guest arms
 * it, the balloon moves only when the guest reports a new size, the guest-agent channel
 * connects only when the guest opens its port. A Linux guest would do all three, but on
 * this (nested) machine kind a Linux kernel takes minutes to boot; this program does the
 * same register-level actions directly, in a few hundred bytes:
 *
 *   ib700 watchdog (ISA, port 0x443): armed with a 2 s timeout, never re-armed.
 *       QEMU fires its action -> WATCHDOG event. Without an ib700 the write goes nowhere.
 *   virtio-serial (legacy virtio-pci 1af4:1003): multiport negotiated, the control
 *       transmit queue (3) set up, PORT_OPEN sent for port 1 (the first channel), and
 *       PORT_OPEN with value 0 (close) about 2 s later. QEMU reports VSERPORT_CHANGE;
 *       libvirt turns it into AGENT_LIFECYCLE connected / disconnected for the
 *       org.qemu.guest_agent.0 channel.
 *   virtio-balloon (legacy virtio-pci 1af4:1002): forever copies num_pages (the size
 *       the host asks for) to actual (the size the guest reports), 18 times a second.
 *       QEMU reports BALLOON_CHANGE; libvirt sends the balloon-change event.
 *
 * Then it idles (sti; hlt). Rings and messages live at 0x20000-0x2FFFF.
 * Build: Scripts/lab.sh (clang -m16 + ld.lld from the Swift toolchain, flat binary).
 */
    .code16
    .text
    .globl start
start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $0x7c00, %sp
    sti

    /* ib700: a write to the enable register starts the timer; 0x0E selects 2 s. */
    movw $0x443, %dx
    movb $0x0e, %al
    outb %al, %dx

    /* virtio-serial: open port 1, wait ~2 s, close it. */
    movw $0x1003, %si
    call find_virtio
    testw %bx, %bx
    jz balloon
    call serial_setup
    movw $1, %cx
    call serial_send
    call wait_2s
    xorw %cx, %cx
    call serial_send

balloon:
    movw $0x1002, %si
    call find_virtio
    movw %bx, %bp
idle:
    testw %bp, %bp
    jz 1f
    leaw 0x14(%bp), %dx          /* config: num_pages (no MSI-X: config starts at 20) */
    inl %dx, %eax
    addw $4, %dx                 /* config: actual */
    outl %eax, %dx
1:  hlt                          /* woken by the BIOS timer (18.2 Hz) */
    jmp idle

/* Finds virtio device 1AF4:%si on bus 0, function 0; enables its I/O decoding and bus
 * mastering. Returns its BAR0 I/O base in %bx, or 0. */
find_virtio:
    movl $0x80000000, %ecx
2:  movl %ecx, %eax
    call pci_read
    cmpw $0x1af4, %ax
    jne 3f
    shrl $16, %eax
    cmpw %si, %ax
    je 4f
3:  addl $0x800, %ecx
    cmpl $0x80010000, %ecx
    jb 2b
    xorw %bx, %bx
    ret
4:  movl %ecx, %eax
    orb $0x04, %al               /* command register */
    call pci_read
    orw $0x0005, %ax             /* I/O space + bus master */
    outw %ax, %dx
    movl %ecx, %eax
    orb $0x10, %al               /* BAR0 */
    call pci_read
    andw $0xfffc, %ax
    movw %ax, %bx
    ret

/* Selects config register %eax (0xCF8) and reads it (0xCFC) into %eax; %dx = 0xCFC. */
pci_read:
    movw $0xcf8, %dx
    outl %eax, %dx
    movw $0xcfc, %dx
    inl %dx, %eax
    ret

/* Resets the device, negotiates MULTIPORT and sets up queue 3 at 0x20000. */
serial_setup:
    movw $0x2000, %ax
    movw %ax, %es
    xorw %di, %di
    movw $0x8000, %cx
    xorw %ax, %ax
    cld
    rep stosw                    /* zero 0x20000-0x2FFFF */
    leaw 0x12(%bx), %dx          /* status */
    outb %al, %dx                /* 0: reset */
    movb $3, %al                 /* ACKNOWLEDGE | DRIVER */
    outb %al, %dx
    leaw 0x04(%bx), %dx          /* guest features */
    movl $2, %eax                /* VIRTIO_CONSOLE_F_MULTIPORT */
    outl %eax, %dx
    leaw 0x0e(%bx), %dx          /* queue select */
    movw $3, %ax                 /* control transmit queue */
    outw %ax, %dx
    leaw 0x0c(%bx), %dx          /* queue size */
    inw %dx, %ax
    shlw $4, %ax                 /* 16 bytes per descriptor: the avail ring follows */
    movw %ax, avail
    leaw 0x08(%bx), %dx          /* queue PFN */
    movl $0x20, %eax             /* 0x20000 >> 12 */
    outl %eax, %dx
    leaw 0x12(%bx), %dx
    movb $7, %al                 /* ... | DRIVER_OK */
    outb %al, %dx
    ret

/* Sends the control message {id 1, PORT_OPEN, value %cx} as descriptor/message #sent. */
serial_send:
    movw sent, %si               /* k */
    movw %si, %di
    shlw $3, %di
    addw $0xf000, %di            /* message k at 0x2F000 + 8k */
    movw $1, %es:(%di)           /* id = 1 (le32) */
    movw $0, %es:2(%di)
    movw $6, %es:4(%di)          /* event = VIRTIO_CONSOLE_PORT_OPEN */
    movw %cx, %es:6(%di)         /* value */
    movw %si, %ax
    shlw $4, %ax
    xchgw %ax, %di               /* di = descriptor k, ax = message offset */
    movw %ax, %es:(%di)          /* addr = 0x20000 + offset (le64) */
    movw $2, %es:2(%di)
    movw $0, %es:4(%di)
    movw $0, %es:6(%di)
    movw $8, %es:8(%di)          /* len */
    movw $0, %es:10(%di)
    movw $0, %es:12(%di)         /* flags, next */
    movw avail, %di
    movw %si, %ax
    shlw $1, %ax
    addw %ax, %di
    movw %si, %es:4(%di)         /* avail.ring[k] = k */
    incw %si
    movw avail, %di
    movw %si, %es:2(%di)         /* avail.idx = k + 1 */
    movw %si, sent
    leaw 0x10(%bx), %dx          /* queue notify */
    movw $3, %ax
    outw %ax, %dx
    ret

/* Waits 36 BIOS timer ticks (about 2 s). */
wait_2s:
    movw 0x46c, %cx
5:  hlt
    movw 0x46c, %ax
    subw %cx, %ax
    cmpw $36, %ax
    jb 5b
    ret

avail: .word 0
sent:  .word 0
