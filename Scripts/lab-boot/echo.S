/*
 * The "echo" boot sector: 16-bit real mode, loaded by SeaBIOS at 0000:7C00.
 *
 * The serial-console tests and the console benchmark need a guest that answers on its
 * serial port within microseconds of a byte arriving, without a Linux kernel (minutes to
 * boot on this nested machine kind). This program sets COM1 (16550 UART, port 0x3F8,
 * IRQ 4) to 115200 8N1 with its receive interrupt on, prints a banner, then sleeps in hlt;
 * the IRQ 4 handler writes back every byte it reads (no translation), so a byte typed
 * through libvirt's console stream comes back as soon as QEMU delivers it. No polling: an
 * idle echo guest costs no host CPU.
 *
 * Build: VirtKitTestSupport.EchoGuest (clang -m16 + ld.lld from the Swift toolchain, as
 * Scripts/lab.sh builds devices.S), flat binary in a 1 MiB raw image.
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

    /* IRQ 4 is vector 0x0C under SeaBIOS's PIC setup (master base 0x08): IVT entry 0x30. */
    movw $uart_isr, 0x30
    movw $0, 0x32

    movw $0x3fb, %dx             /* LCR: DLAB on to set the divisor */
    movb $0x80, %al
    outb %al, %dx
    movw $0x3f8, %dx             /* divisor 1 = 115200 baud */
    movb $0x01, %al
    outb %al, %dx
    incw %dx
    xorb %al, %al
    outb %al, %dx
    movw $0x3fb, %dx             /* LCR: 8N1, DLAB off */
    movb $0x03, %al
    outb %al, %dx
    movw $0x3fa, %dx             /* FCR: FIFO on and cleared, interrupt at 1 byte */
    movb $0x07, %al
    outb %al, %dx
    movw $0x3fc, %dx             /* MCR: DTR, RTS, OUT2 (OUT2 gates the IRQ line) */
    movb $0x0b, %al
    outb %al, %dx
    movw $0x3f9, %dx             /* IER: received-data interrupt */
    movb $0x01, %al
    outb %al, %dx

    inb $0x21, %al               /* unmask IRQ 4 at the master PIC */
    andb $0xef, %al
    outb %al, $0x21

    movw $banner, %si
1:  lodsb
    testb %al, %al
    jz 2f
    call putc
    jmp 1b
2:  sti
idle:
    hlt
    jmp idle

/* Writes %al to COM1 once the transmit holding register is empty. */
putc:
    movb %al, %ah
    movw $0x3fd, %dx
3:  inb %dx, %al
    testb $0x20, %al
    jz 3b
    movw $0x3f8, %dx
    movb %ah, %al
    outb %al, %dx
    ret

/* IRQ 4: echo every received byte, then end the interrupt at the PIC. */
uart_isr:
    pushw %ax
    pushw %dx
4:  movw $0x3fd, %dx
    inb %dx, %al
    testb $0x01, %al             /* LSR: data ready */
    jz 5f
    movw $0x3f8, %dx
    inb %dx, %al
    call putc
    jmp 4b
5:  movb $0x20, %al
    outb %al, $0x20
    popw %dx
    popw %ax
    iret

banner:
    .asciz "virtkit echo ready\r\n"
