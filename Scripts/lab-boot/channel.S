/*
 * The "channel" boot sector: 16-bit real mode, loaded by SeaBIOS at 0000:7C00.
 *
 * The virDomainOpenChannel test needs a guest that answers on a virtio-serial port (a
 * libvirt <channel> with a virtio target), without a Linux kernel. This program drives a
 * legacy virtio-serial device (virtio-pci 1af4:1003) directly: MULTIPORT negotiated; the
 * control transmit queue (3) and port 1's receive (4) and transmit (5) queues set up (the
 * first channel is port 1); a receive buffer posted; PORT_OPEN sent for port 1 (QEMU
 * passes host bytes to a port only once the guest has opened it). Then, on every BIOS
 * timer tick (18.2 Hz), whatever port 1 received is written back to it: an echo, within
 * about 55 ms. Interrupts from the device are suppressed (VRING_AVAIL_F_NO_INTERRUPT).
 *
 * Each queue uses only descriptor 0 (one buffer in flight per queue). Memory: queues at
 * 0x20000 (3), 0x24000 (4), 0x28000 (5); control message 0x2C000, receive buffer 0x2D000,
 * transmit buffer 0x2E000. Build: VirtKitTestSupport.EchoGuest (program "channel").
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

    call find_serial
    testw %bx, %bx
    jz idle

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

    movw $3, %ax
    call setup_queue
    movw $4, %ax
    call setup_queue
    movw $5, %ax
    call setup_queue

    leaw 0x12(%bx), %dx
    movb $7, %al                 /* ... | DRIVER_OK */
    outb %al, %dx

    call post_rx
    /* control message {id 1, PORT_OPEN (6), value 1} */
    movw $1, %es:0xc000
    movw $6, %es:0xc004
    movw $1, %es:0xc006
    movw $3, %ax
    movw $0xc000, %si
    movw $8, %cx
    xorw %bp, %bp
    call post

loop:
    hlt                          /* woken by the BIOS timer */
    movw $4, %ax
    call used_idx
    cmpw last_rx, %ax
    je loop
    /* the received length: used.ring[last_rx % size].len */
    movw last_rx, %si
    andw qmask+2, %si
    shlw $3, %si
    addw qused+2, %si
    addw $0x4000, %si
    movw %es:8(%si), %cx         /* used elem: id (le32) at +4, len at +8 from used base */
    incw last_rx
    /* wait until the previous transmit buffer was consumed */
1:  movw $5, %ax
    call used_idx
    cmpw qposted+4, %ax
    je 2f
    hlt
    jmp 1b
2:  pushw %cx
    pushw %ds
    movw %es, %ax
    movw %ax, %ds
    movw $0xd000, %si
    movw $0xe000, %di
    cld
    rep movsb
    popw %ds
    popw %cx
    movw $5, %ax
    movw $0xe000, %si
    xorw %bp, %bp
    call post
    call post_rx
    jmp loop

idle:
    hlt
    jmp idle

/* Posts the receive buffer (256 bytes, device-writable) on queue 4. */
post_rx:
    movw $4, %ax
    movw $0xd000, %si
    movw $256, %cx
    movw $2, %bp                 /* VRING_DESC_F_WRITE */
    /* fall through */

/* Posts descriptor 0 of queue %ax = buffer 0x20000+%si, length %cx, flags %bp; notifies. */
post:
    pushw %ax
    movw %ax, %di
    subw $3, %di
    shlw $1, %di                 /* di = 2 * (queue - 3): index into the word tables */
    pushw %di
    shlw $13, %di                /* queue base = 0x4000 * (queue - 3) */
    movw %si, %es:(%di)          /* desc[0].addr = 0x2xxxx (le64) */
    movw $2, %es:2(%di)
    movw $0, %es:4(%di)
    movw $0, %es:6(%di)
    movw %cx, %es:8(%di)         /* len (le32) */
    movw $0, %es:10(%di)
    movw %bp, %es:12(%di)        /* flags; next = 0 */
    movw $0, %es:14(%di)
    popw %si                     /* si = table index */
    addw qavail(%si), %di        /* di = avail ring */
    movw $1, %es:(%di)           /* flags: VRING_AVAIL_F_NO_INTERRUPT */
    movw qposted(%si), %ax
    andw qmask(%si), %ax
    shlw $1, %ax
    pushw %di
    addw %ax, %di
    movw $0, %es:4(%di)          /* ring[idx % size] = descriptor 0 */
    popw %di
    incw qposted(%si)
    movw qposted(%si), %ax
    movw %ax, %es:2(%di)         /* idx */
    popw %ax
    leaw 0x10(%bx), %dx          /* queue notify */
    outw %ax, %dx
    ret

/* Returns the used ring's idx of queue %ax in %ax. */
used_idx:
    movw %ax, %si
    subw $3, %si
    movw %si, %di
    shlw $1, %si
    shlw $14, %di
    addw qused(%si), %di
    movw %es:2(%di), %ax
    ret

/* Sets up queue %ax at 0x20000 + 0x4000 * (%ax - 3): records its size mask, avail and
 * used ring offsets (legacy layout: used ring page-aligned after the avail ring). */
setup_queue:
    movw %ax, %si
    subw $3, %si
    movw %si, %di
    shlw $1, %si                 /* table index */
    shlw $2, %di
    addw $0x20, %di              /* PFN = 0x20 + 4 * (queue - 3) */
    leaw 0x0e(%bx), %dx          /* queue select */
    outw %ax, %dx
    leaw 0x0c(%bx), %dx          /* queue size */
    inw %dx, %ax
    movw %ax, %cx
    decw %cx
    movw %cx, qmask(%si)
    movw %ax, %cx
    shlw $4, %cx                 /* 16 bytes per descriptor */
    movw %cx, qavail(%si)
    shlw $1, %ax
    addw %ax, %cx                /* avail ring: 6 + 2 * size bytes */
    addw $6 + 4095, %cx
    andw $0xf000, %cx
    movw %cx, qused(%si)
    movzwl %di, %eax
    leaw 0x08(%bx), %dx          /* queue PFN */
    outl %eax, %dx
    ret

/* Finds the virtio-serial device on bus 0; enables I/O decoding and bus mastering.
 * Returns its BAR0 I/O base in %bx, or 0. (devices.S's find_virtio for one device: each
 * boot sector is assembled alone and must fit 510 bytes.) */
find_serial:
    movl $0x80000000, %ecx
3:  movl %ecx, %eax
    call pci_read
    cmpl $0x10031af4, %eax
    je 4f
    addl $0x800, %ecx
    cmpl $0x80010000, %ecx
    jb 3b
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

/* Per-queue words for queues 3, 4, 5 (index 2 * (queue - 3)). */
qmask:   .word 0, 0, 0
qavail:  .word 0, 0, 0
qused:   .word 0, 0, 0
qposted: .word 0, 0, 0
last_rx: .word 0
